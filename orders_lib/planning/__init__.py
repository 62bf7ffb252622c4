"""Will the pipeline hold at a given rate on AWS, and what will it cost: pure models, no AWS call,
and the two modules that feed and check them on a target.

``figures`` holds what one order costs the pipeline (calls, bytes, milliseconds: measured by a
caller, or the documented defaults until then) and the mapping's settings; ``limits`` the AWS
limits the capacity model follows, each with the page it comes from; ``capacity_model`` whether
the pipeline keeps up, and which limit it meets first; ``cost_model`` the bill per service from
a dated price file (``prices.yaml``, loaded by ``prices``); ``report`` the text ``orders capacity``
prints. ``measure`` measures the figures on the target a run points at (a sample of orders, then
read APIs only), ``sandbox_check`` compares the model with a run on the sandbox at its own scale;
both take their clients as arguments (``06_capacity``). ``orders_lib.ops.capacity`` is another
matter: the sandbox's own ramp.
"""
