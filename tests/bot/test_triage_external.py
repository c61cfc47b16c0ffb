"""Bring your own model: a tiny ONNX model made here with onnx's helper API and run by
onnxruntime, and an OpenAI-compatible endpoint faked at the HTTP boundary (httpx.MockTransport)
speaking the chat-completions shapes, its errors, timeouts and refusals."""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.triage.external import (
    FAILURES_BEFORE_PAUSE,
    PAUSE_SECONDS,
    SCHEME,
    Classification,
    ClassifierSettings,
    EndpointClassifier,
    apply,
    build_classifier,
    hashed_bow,
    triage_analyzer,
    with_classifier,
)

onnx = pytest.importorskip("onnx")  # the dev extra installs it; the [onnx] extra does not
from onnx import TensorProto, helper  # noqa: E402

DIM = 64
KEY = "sk-test-4f9a1c0ffee"


def _bucket(word: str) -> int:
    return zlib.crc32(word.encode()) % DIM


def make_model(directory: Path, *, outputs: dict[str, Any] | None = None,
               graph_outputs: tuple[str, ...] = ("sentiment", "needs_reply", "relevance"),
               scheme: str = SCHEME) -> Path:
    """model.onnx: softmax(xW+b) over three sentiments, sigmoid(xw+b) for needs-reply and
    relevance; "broken" pushes negative and needs-reply, "love" positive, "aurora" off-topic."""
    ws = [[0.0, 0.0, 0.0] for _ in range(DIM)]
    wn = [[0.0] for _ in range(DIM)]
    wr = [[3.0] for _ in range(DIM)]
    ws[_bucket("broken")] = [8.0, 0.0, -8.0]
    wn[_bucket("broken")] = [8.0]
    ws[_bucket("love")] = [-8.0, 0.0, 8.0]
    wn[_bucket("love")] = [-8.0]
    wr[_bucket("aurora")] = [-20.0]
    flat = lambda m: [v for row in m for v in row]  # noqa: E731
    inits = [
        helper.make_tensor("Ws", TensorProto.FLOAT, [DIM, 3], flat(ws)),
        helper.make_tensor("Wn", TensorProto.FLOAT, [DIM, 1], flat(wn)),
        helper.make_tensor("Wr", TensorProto.FLOAT, [DIM, 1], flat(wr)),
        helper.make_tensor("bn", TensorProto.FLOAT, [1], [-1.0]),
        helper.make_tensor("br", TensorProto.FLOAT, [1], [-1.0]),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "Ws"], ["s_logits"]),
        helper.make_node("Softmax", ["s_logits"], ["sentiment"], axis=-1),
        helper.make_node("MatMul", ["features", "Wn"], ["n_raw"]),
        helper.make_node("Add", ["n_raw", "bn"], ["n_logit"]),
        helper.make_node("Sigmoid", ["n_logit"], ["needs_reply"]),
        helper.make_node("MatMul", ["features", "Wr"], ["r_raw"]),
        helper.make_node("Add", ["r_raw", "br"], ["r_logit"]),
        helper.make_node("Sigmoid", ["r_logit"], ["relevance"]),
    ]
    shapes = {"sentiment": [1, 3], "needs_reply": [1, 1], "relevance": [1, 1]}
    graph = helper.make_graph(
        nodes, "triage",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, DIM])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes[n]) for n in graph_outputs],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(model, directory / "model.onnx")
    (directory / "config.json").write_text(json.dumps({
        "scheme": scheme, "dim": DIM, "input": "features",
        "outputs": outputs or {"sentiment": ["negative", "neutral", "positive"],
                               "needs_reply": "probability", "relevance": "probability"}}))
    return directory


def settings(**values: Any) -> ClassifierSettings:
    return ClassifierSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_local_onnx_model_classifies(tmp_path: Path) -> None:
    model = build_classifier(settings(kind="onnx", onnx_dir=make_model(tmp_path / "m")))
    assert model is not None
    broken = model.classify("My bike is BROKEN again", brand="Acme")
    assert broken is not None
    assert broken.sentiment == "negative" and broken.sentiment_score is not None
    assert broken.sentiment_score < -0.9
    assert broken.needs_reply is not None and broken.needs_reply > 0.9
    assert broken.relevance is not None and broken.relevance > 0.5
    loved = model.classify("love the bike")
    assert loved is not None and loved.sentiment == "positive"
    assert loved.needs_reply is not None and loved.needs_reply < 0.1
    aurora = model.classify("aurora tonight")
    assert aurora is not None and aurora.relevance is not None and aurora.relevance < 0.01
    # Odd input has a defined answer.
    for text in ("", "🙂🙂", "x" * 100_000):
        assert model.classify(text) is not None


def test_an_onnx_model_may_answer_only_some_scores(tmp_path: Path) -> None:
    d = make_model(tmp_path / "m", outputs={"needs_reply": "probability"},
                   graph_outputs=("needs_reply",))
    model = build_classifier(settings(kind="onnx", onnx_dir=d))
    assert model is not None
    c = model.classify("broken")
    assert c is not None and (c.sentiment, c.relevance) == (None, None)
    assert c.needs_reply is not None and c.needs_reply > 0.9


def test_a_bad_model_directory_is_a_clear_error_or_a_logged_fallback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValidationError, match="ECHTZEIT_CLASSIFIER_ONNX_DIR"):
        settings(kind="onnx")
    with pytest.raises(ValidationError, match=r"no model\.onnx and no config\.json"):
        settings(kind="onnx", onnx_dir=tmp_path)
    missing = make_model(tmp_path / "a", graph_outputs=("sentiment", "needs_reply"))
    with caplog.at_level(logging.ERROR):
        assert build_classifier(settings(kind="onnx", onnx_dir=missing)) is None
    assert "model.onnx has no output relevance" in caplog.text
    wrong = make_model(tmp_path / "b", scheme="bert-wordpiece")
    assert build_classifier(settings(kind="onnx", onnx_dir=wrong)) is None
    assert "scheme must be 'hashed-bow-v1'" in caplog.text
    garbage = make_model(tmp_path / "c")
    (garbage / "model.onnx").write_bytes(b"not a model")
    assert build_classifier(settings(kind="onnx", onnx_dir=garbage)) is None
    assert "cannot be loaded" in caplog.text
    assert build_classifier(settings()) is None  # off by default


def test_hashed_bow_is_normalised() -> None:
    v = hashed_bow("Broken broken LOVE", DIM)
    assert sum(x * x for x in v) == pytest.approx(1.0)
    assert v[_bucket("broken")] > v[_bucket("love")] > 0
    assert hashed_bow("", DIM) == [0.0] * DIM


@dataclass(frozen=True)
class Signals:
    language: str
    sentiment: str
    sentiment_score: float
    needs_reply: float
    relevance: float | None
    priority: str


def test_apply_puts_in_only_what_the_model_said() -> None:
    base = Signals("en", "neutral", 0.0, 0.3, 0.8, "normal")
    assert apply(base, None) is base
    got = apply(base, Classification(sentiment="negative", sentiment_score=-0.7))
    assert got == Signals("en", "negative", -0.7, 0.3, 0.8, "normal")


def test_with_classifier_wraps_the_base_analysis(tmp_path: Path) -> None:
    def analyze(text: str, *, lang: str | None = None, network: str | None = None,
                brand: str | None = None) -> Signals:
        return Signals(lang or "en", "neutral", 0.0, 0.5, 0.9 if brand else None, "normal")

    assert with_classifier(analyze, None) is analyze
    model = build_classifier(settings(kind="onnx", onnx_dir=make_model(tmp_path / "m")))
    wrapped = with_classifier(analyze, model)
    got = wrapped("broken again", network="x", brand="Acme")
    assert (got.language, got.sentiment, got.priority) == ("en", "negative", "normal")
    assert got.needs_reply > 0.9 and got.relevance is not None and got.relevance > 0.95


def test_the_process_analyze_function_puts_the_model_in_and_ranks_again(
    tmp_path: Path
) -> None:
    """triage_analyzer: what the pipeline and `echtzeit analyze` both call (echtzeit.wiring);
    the shipped model alone when off, else the model's answer with the priority that follows."""
    from bot.triage import analyze as base_analyze
    from bot.triage.brands import brand_terms

    assert triage_analyzer(None) is base_analyze
    model = build_classifier(settings(kind="onnx", onnx_dir=make_model(tmp_path / "m")))
    run = triage_analyzer(model)
    acme = brand_terms("Acme", "acme")
    text = "acme aurora: broken again"
    plain = base_analyze(text, lang="en", brand=acme, followers=50_000)
    got = run(text, lang="en", brand=acme, followers=50_000)
    assert plain.relevance is not None and plain.relevance >= 0.3 and plain.priority == "urgent"
    # The model says negative but not about the brand ("aurora"): not urgent, as bot.triage.rank
    # caps a post under relevance 0.3 at normal.
    assert got.sentiment == "negative" and got.relevance is not None and got.relevance < 0.3
    assert got.priority == "normal"
    assert run("acme: broken again", lang="en", brand=acme, followers=50_000).priority == "urgent"


# --- an OpenAI-compatible endpoint ------------------------------------------------------------


class FakeEndpoint:
    """POST /v1/chat/completions as OpenAI documents it: Bearer auth (401 with an error object
    that quotes the key, as OpenAI's does), a JSON body with model and messages, and the chat
    completion object in reply. `answer` sets what the model says next."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Any = {"sentiment": "negative", "sentiment_score": -0.8,
                            "needs_reply": 0.93, "relevance": 0.88}
        self.status = 200
        self.timeout = False
        self.refuse = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert (request.method, request.url.path) == ("POST", "/v1/chat/completions")
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {KEY}":
            return httpx.Response(401, json={"error": {
                "message": f"Incorrect API key provided: {auth.removeprefix('Bearer ')}.",
                "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})
        body = json.loads(request.content)
        assert body["model"] == "tiny-classifier" and body["messages"][0]["role"] == "system"
        post = json.loads(body["messages"][1]["content"])
        assert set(post) == {"brand", "language", "network", "text"}
        if self.timeout:
            raise httpx.ReadTimeout("timed out", request=request)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {
                "message": f"Rate limit reached for {KEY[:8]}", "type": "requests",
                "param": None, "code": "rate_limit_exceeded"}})
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if self.refuse:
            message["refusal"] = "I can't help with that."
        else:
            message["content"] = (self.answer if isinstance(self.answer, str)
                                  else json.dumps(self.answer))
        return httpx.Response(200, json={
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1764979200,
            "model": "tiny-classifier",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 90, "completion_tokens": 20, "total_tokens": 110}})


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def endpoint(fake: FakeEndpoint, clock: Clock, key: str = KEY) -> EndpointClassifier:
    model = build_classifier(
        settings(kind="openai", base_url="https://llm.example/v1/", model="tiny-classifier",
                 api_key=key, timeout_seconds=2),
        client=httpx.Client(transport=httpx.MockTransport(fake)), clock=clock)
    assert isinstance(model, EndpointClassifier)
    return model


def test_an_endpoint_classifies() -> None:
    fake = FakeEndpoint()
    model = endpoint(fake, Clock())
    got = model.classify("Acme support hung up on me", lang="en", network="x", brand="Acme")
    assert got == Classification(sentiment="negative", sentiment_score=-0.8, needs_reply=0.93,
                                 relevance=0.88)
    fake.answer = {"sentiment": "positive", "needs_reply": 7, "relevance": -1}
    assert model.classify("great") == Classification(sentiment="positive", sentiment_score=0.5,
                                                     needs_reply=1.0, relevance=0.0)
    fake.answer = '```json\n{"needs_reply": 0.2}\n```'
    assert model.classify("ok") == Classification(needs_reply=0.2)
    body = json.loads(fake.requests[0].content)
    assert json.loads(body["messages"][1]["content"])["text"] == "Acme support hung up on me"
    assert body["response_format"] == {"type": "json_object"} and body["temperature"] == 0


@pytest.mark.parametrize("fault", ["wrong key", "rate limit", "server error", "timeout",
                                   "refusal", "not json", "bad label", "no labels", "array"])
def test_endpoint_failures_fall_back_with_a_log_line_and_never_the_key(
        fault: str, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeEndpoint()
    key = KEY
    if fault == "wrong key":
        key = "sk-wrong-0123456789"
    elif fault == "rate limit":
        fake.status = 429
    elif fault == "server error":
        fake.status = 500
    elif fault == "timeout":
        fake.timeout = True
    elif fault == "refusal":
        fake.refuse = True
    elif fault == "not json":
        fake.answer = "negative, I think"
    elif fault == "bad label":
        fake.answer = {"sentiment": "furious"}
    elif fault == "no labels":
        fake.answer = {"mood": "bad"}
    elif fault == "array":
        fake.answer = ["negative"]
    model = endpoint(fake, Clock(), key=key)
    with caplog.at_level(logging.DEBUG):
        assert model.classify("Acme is down") is None
    [record] = [r for r in caplog.records if r.name == "bot.triage.external"]
    assert record.levelno == logging.WARNING
    assert "the shipped model's scores are used" in record.getMessage()
    for secret in (KEY, "sk-wrong-0123456789", KEY[:8]):
        assert secret not in caplog.text
    expected = {"wrong key": "HTTP 401 invalid_request_error", "rate limit": "HTTP 429 requests",
                "server error": "HTTP 500", "timeout": "timed out",
                "refusal": "the model refused", "not json": "the answer is not JSON",
                "bad label": "sentiment is not", "no labels": "none of the labels",
                "array": "not a JSON object"}[fault]
    assert expected in record.getMessage()


def test_a_failing_endpoint_is_paused_then_asked_again(caplog: pytest.LogCaptureFixture) -> None:
    fake, clock = FakeEndpoint(), Clock()
    fake.timeout = True
    model = endpoint(fake, clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(FAILURES_BEFORE_PAUSE + 5):
            assert model.classify("Acme?") is None
    assert len(fake.requests) == FAILURES_BEFORE_PAUSE  # then paused: no request at all
    assert f"not asked again for {PAUSE_SECONDS:.0f} s" in caplog.text
    fake.timeout = False
    clock.t += PAUSE_SECONDS + 1
    assert model.classify("Acme?") is not None
    assert len(fake.requests) == FAILURES_BEFORE_PAUSE + 1


def test_endpoint_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="ECHTZEIT_CLASSIFIER_BASE_URL"):
        settings(kind="openai", model="m")
    with pytest.raises(ValidationError, match="ECHTZEIT_CLASSIFIER_MODEL"):
        settings(kind="openai", base_url="http://localhost:8000/v1")
    s = settings(kind="openai", base_url="http://localhost:8000/v1", model="m", api_key=KEY)
    assert KEY not in repr(s) and KEY not in str(s.model_dump())
