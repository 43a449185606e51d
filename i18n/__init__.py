"""Languages of the IOC: English, Simplified Chinese and Thai (docs/LANGUAGES.md).

``languages`` names them, ``choice`` decides which one a request gets, ``catalog`` holds the gettext
catalogues (``locale/*/LC_MESSAGES/ioc.po``, compiled when first used), ``formats`` renders numbers, units,
dates and times with Babel, ``current`` binds both to the request being answered, and ``web`` installs it all
on the dashboard.
"""
