"""Streamlit glue shared by app.py and the pages: session state, sidebar widgets, formatting.

Only this package and pages/ import streamlit; all logic lives in kam_analytics/.
"""
