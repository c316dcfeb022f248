"""CSV cells safe to open in a spreadsheet, for every export (oversight's and the public one)."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with a quote.

    Exports carry free text typed by users (purposes, reasons, site names), and they are
    opened in spreadsheets by reviewers and the public: "=HYPERLINK(...)" must stay text.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
