"""Reply templates."""

from __future__ import annotations

from sqlmodel import col, select

from bot.errors import NotFound
from bot.models import Template
from bot.store.base import StoreBase


class TemplateStore(StoreBase):
    """Named reply templates."""

    def add_template(self, *, name: str, text: str, actor: str) -> Template:
        with self.session() as s:
            t = s.exec(select(Template).where(Template.name == name)).first()
            if t is None:
                t = Template(name=name, text=text, created_by=actor, created_at=self.now())
            else:
                t.text = text
            s.add(t)
            return t

    def template(self, *, name: str) -> Template:
        with self.session() as s:
            t = s.exec(select(Template).where(Template.name == name)).first()
            if t is None:
                raise NotFound(f"no template named {name!r}")
            return t

    def templates(self) -> list[Template]:
        with self.session() as s:
            return list(s.exec(select(Template).order_by(col(Template.name))))
