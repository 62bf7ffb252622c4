"""How the sandbox is served over HTTP: the listeners, the bridge to moto's WSGI app, and the
``/_sandbox/`` control API."""
