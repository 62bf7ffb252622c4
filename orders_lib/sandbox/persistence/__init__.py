"""The sandbox's state across a stop, a start and a crash: moto's backends and the sandbox's
own state in one pickle (``moto_state``), taken at a consistent cut (``gate``) by ``snapshots``
into a file that says what made it and is replaced atomically (``snapshot_file``).
A snapshot is a pickle: load only files you made or trust.
"""
