"""Collection rules for the whole repository (pytest runs the doctests of src/minml)."""

import importlib.util

# The app's page is a Streamlit script: Streamlit runs it, importing it would draw the page.
collect_ignore = ["src/minml/app/page.py"]
if importlib.util.find_spec("streamlit") is None:  # without the app extra, its modules cannot be imported
    collect_ignore.append("src/minml/app/_show.py")
