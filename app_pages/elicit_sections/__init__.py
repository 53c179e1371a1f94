"""The Elicit page's parts, one concern per module; `app_pages/elicit.py` puts them in order.

`form` (widget keys, the values as a response, their problems), `questions` (scenarios and
sketches, the group forecast, factors, evidence readings, who you are), `feedback` (the
member's update and coherence before saving), `history` (earlier answers, what changed, a new
round), `submit` (saving once per click), `group_view` (the group as a member may see it) and
`returning` (a browser that answered before). Like every page module, they may import
Streamlit, `app_pages.common`, `model`, `priors` and `store`, and compute no number.
"""
