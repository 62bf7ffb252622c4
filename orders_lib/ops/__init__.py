"""Operations shared by the command line and the notebooks: stack outputs,
creating and listing orders, notifications, the DLQ and function logs.
Works against the sandbox or AWS, as ``orders_lib.settings`` says."""
