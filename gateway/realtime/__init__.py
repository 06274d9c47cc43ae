"""Real-time fan-out of committed events to subscribers, in this process and across processes.

Writers announce each event's id once its transaction commits (`runtime.announce`, called by
`gateway.services.recording.record`); a transport carries the announcement to every process
(`transports`: in-process on SQLite, PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub when
`GATEWAY_REDIS_URL` is set); each process's `Hub` reads the row once and offers it to the
bounded inboxes of its local subscribers. The rules of who may see what live in
`gateway.services.streams`. See history/adr/0016-subscriptions-fan-out.md.
"""
