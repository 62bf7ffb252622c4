from orders_lib.sandbox.cloudformation.stack import fingerprint


def test_the_fingerprint_follows_the_sources_and_the_stage(tmp_path):
    (tmp_path / "cdk").mkdir()
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "cdk" / "app.py").write_text("app = 1\n")
    (tmp_path / "lambdas" / "create_order.py").write_text("handler = 1\n")
    first = fingerprint(tmp_path, None)
    assert fingerprint(tmp_path, None) == first
    assert fingerprint(tmp_path, "dev") != first
    (tmp_path / "lambdas" / "create_order.py").write_text("handler = 2\n")
    assert fingerprint(tmp_path, None) != first
