"""The one-command demo (``make run``): the Latvian node, a simulated partner member-state node, the
common-services simulator, the foreign eIDAS simulator and a small procedure portal on one machine."""
