"""The shape check: every answer a sandbox gives in the end-to-end suite, read from its raw HTTP
body, held against botocore's model of the operation's output (AWS's published model, not rules
written here), with a written allow-list of the places where that model is wrong.

`validator` checks one answer; `capture` records the checks of every botocore client of a process
(the test process, and through `site/sitecustomize.py` each Python process the tests start);
`allowed` is the allow-list and the report of what is outside it.
"""
