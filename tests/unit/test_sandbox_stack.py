from orders_lib.sandbox.cloudformation.stack import assembly_dir, fingerprint


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


def test_the_fingerprint_follows_the_installed_powertools(tmp_path, monkeypatch):
    """The template names the layer of the installed release: a new one needs a new synth."""
    from orders_lib.deploy import powertools

    first = fingerprint(tmp_path, None)
    monkeypatch.setattr(powertools, "installed_version", lambda: "3.99.1")
    assert fingerprint(tmp_path, None) != first


def test_the_fingerprint_follows_the_mapping_scale_levers_in_the_environment(tmp_path, monkeypatch):
    """ORDERS_PARALLELIZATION_FACTOR and ORDERS_BATCHING_WINDOW reach the template: a change needs a new synth."""
    monkeypatch.delenv("ORDERS_PARALLELIZATION_FACTOR", raising=False)
    first = fingerprint(tmp_path, None)
    monkeypatch.setenv("ORDERS_PARALLELIZATION_FACTOR", "4")
    assert fingerprint(tmp_path, None) != first


def test_each_stage_has_its_own_assembly_folder(tmp_path):
    folders = {assembly_dir(tmp_path, stage) for stage in (None, "nbcli", "dev")}
    assert len(folders) == 3
    assert assembly_dir(tmp_path, None) == tmp_path / "build" / "cdk.out.sandbox"
