"""The grading oracle: checks anyone's micrograd engine against the reference, op by op.

Run it as ``micrograd-ref check engine.py`` or ``pytest --micrograd-impl=engine.py``;
see ``docs/oracle-students.md`` and ``docs/oracle-teachers.md``.
"""
