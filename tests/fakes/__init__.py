"""Fakes and builders shared by the test levels: one of each, imported by the tests that need
them (a test module never imports another test module)."""
