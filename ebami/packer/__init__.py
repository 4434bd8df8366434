"""Driving the `packer` binary: its templates, its process and its machine-readable output.

`template` assembles the files Packer runs for its version, `process` is the subprocess seam
(streaming, signal forwarding, silences), `machine` reads `-machine-readable` lines and
`runner` is the domain runner `ebami build` uses.
"""
