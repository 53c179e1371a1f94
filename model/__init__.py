"""The maths of Cruxboard: validation, updates, pools, the group model, figures, command line.

May import priors/, NumPy, SciPy, PyMC, nutpie, ArviZ, xarray and matplotlib; never
Streamlit or store/.
"""

from model.analysis import Analysis, analyse
from model.fit import FitResult, GroupSampler, fit
from model.individual import coherence, update
from model.io import parse_responses, read_responses
from model.schema import GroupData, Response, ResponseError, to_group_data, validate_response

__all__ = [
    "Analysis",
    "FitResult",
    "GroupData",
    "GroupSampler",
    "Response",
    "ResponseError",
    "analyse",
    "coherence",
    "fit",
    "parse_responses",
    "read_responses",
    "to_group_data",
    "update",
    "validate_response",
]
