"""What page tests read from an AppTest run: a widget by key, the page's one Plotly figure."""

import json


def widget(elements, key):
    """The element of ``elements`` (e.g. ``at.selectbox``) whose key is ``key``."""
    return next(w for w in elements if w.key == key)


def only_chart(app) -> dict:
    """The figure the page's one st.plotly_chart sent (AppTest sees it as an unknown element)."""
    specs = [json.loads(e.proto.spec) for e in app.get("plotly_chart")]
    assert len(specs) == 1, f"expected one chart, got {len(specs)}"
    return specs[0]
