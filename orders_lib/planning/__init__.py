"""Will the pipeline hold at a given rate on AWS, and what will it cost: pure models, no AWS call.

``figures`` holds what one order costs the pipeline (calls, bytes, milliseconds: measured by a
caller, or the documented defaults until then) and the mapping's settings; ``limits`` the AWS
limits the capacity model follows, each with the page it comes from; ``capacity_model`` whether
the pipeline keeps up, and which limit it meets first; ``cost_model`` the bill per service from
a dated price file (``prices.yaml``, loaded by ``prices``); ``report`` the text ``orders capacity``
prints. ``orders_lib.ops.capacity`` is another matter: the sandbox's own ramp.
"""
