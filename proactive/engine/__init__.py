"""The campaigns' task engine: the persons of a detection campaign (``campaign run``) or
of a CSS renewal run (``campaign renew``) planned as batches in the database, each batch a
task run by whichever worker takes it — Dramatiq workers fed by RabbitMQ or Redis on
any number of machines, or, with no broker configured, this very process, batch after batch.

- :mod:`.subjects`: a person of a batch as JSON, and back;
- :mod:`.planning`: the campaign split into batches, once;
- :mod:`.tasks`: the task, ``examine_batch(campaign, number)``, and its failure policy;
- :mod:`.local`: the in-process executor (no broker);
- :mod:`.broker`: the broker, its queue and the actor;
- :mod:`.waiting`: progress and the coordinator's wait, read from the plan;
- ``cli.worker_process``: ``unefois worker``'s process (it opens the services).
"""
