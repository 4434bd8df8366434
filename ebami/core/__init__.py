"""The floor every other part stands on: the plan/execute core, deadlines and waiting, Ctrl-C and
SIGTERM, the error hierarchy and exit codes, atomic files, the shipped data folders, how library
code reports progress, check results and plain tables. Imports nothing else of ebami."""
