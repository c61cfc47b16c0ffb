"""The daily digest: its model, the builder, its queries and its plain-text outline."""
