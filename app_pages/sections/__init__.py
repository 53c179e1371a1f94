"""Dashboard sections: each renders one part of the facilitator's dashboard from result records; thin.

May import Streamlit, `app_pages.common`, model/ and priors/; the dashboard reads the store
and passes each section its records.
"""  # noqa: E501  (the first line is the package's one-line header, kept whole)
