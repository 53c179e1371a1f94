"""Helpers shared by the store tests and the browser tests."""


def strip_ids(export: dict) -> dict:
    """An export with ids replaced by positions, so two imports of it compare equal."""
    positions = {p["id"]: i for i, p in enumerate(export["participants"])}
    return {
        **export,
        "group": {k: v for k, v in export["group"].items() if k != "id"},
        "participants": [{k: v for k, v in p.items() if k != "id"} for p in export["participants"]],
        "revisions": [
            {
                **{k: v for k, v in r.items() if k != "id"},
                "participant_id": positions[r["participant_id"]],
            }
            for r in export["revisions"]
        ],
    }
