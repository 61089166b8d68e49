"""What each analysis page shows, loaded by one function per page (`load_<page>`).

The page, the benchmark, the tests and `report` call the same function, so nobody re-types a
page's queries and a figure cannot differ between the screen and a report.
"""
