"""The journal's schema, as an ordered list of migrations.

`PRAGMA user_version` holds the number of migrations applied. Each migration runs in one
transaction with the version bump, so a crash mid-migration leaves the previous version intact.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, their transitions, authorisations, card results, intents, readings, outbox
    """
    CREATE TABLE sessions (
        session_id   TEXT PRIMARY KEY,
        connector_id TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        phase        TEXT NOT NULL,
        tariff_json  TEXT NOT NULL,       -- the tariff as priced: frozen at connector choice
        hold_minor   INTEGER NOT NULL,
        currency     TEXT NOT NULL,
        state_json   TEXT NOT NULL,       -- the machine's session value after the last step
        updated_at   TEXT NOT NULL,
        closed_at    TEXT                 -- money final, report queued
    );
    CREATE TABLE transitions (
        id           INTEGER PRIMARY KEY,
        session_id   TEXT NOT NULL REFERENCES sessions(session_id),
        at           TEXT NOT NULL,
        from_phase   TEXT,
        to_phase     TEXT NOT NULL,
        event        TEXT NOT NULL
    );
    CREATE TABLE authorisations (
        session_id   TEXT PRIMARY KEY REFERENCES sessions(session_id),
        method       TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency     TEXT NOT NULL,
        receipt_no   INTEGER,
        trace_no     INTEGER,
        terminal_id  TEXT,
        auth_code    TEXT,
        masked_pan   TEXT,                -- first 6 / last 4 at most, never a full PAN
        card_brand   TEXT,
        link_id      TEXT,
        at           TEXT NOT NULL
    );
    CREATE TABLE card_results (
        id              INTEGER PRIMARY KEY,
        session_id      TEXT,             -- NULL for a swept orphan hold
        kind            TEXT NOT NULL,    -- preauth | settle | orphan_reversal | refund
        outcome         TEXT NOT NULL,
        amount_minor    INTEGER NOT NULL,
        currency        TEXT NOT NULL,
        raw_result_code INTEGER,
        receipt_no      INTEGER,
        trace_no        INTEGER,
        terminal_id     TEXT,
        auth_code       TEXT,
        masked_pan      TEXT,
        card_brand      TEXT,
        card_date       TEXT,
        card_time       TEXT,
        reference       TEXT,
        at              TEXT NOT NULL,
        consumed        INTEGER NOT NULL DEFAULT 0  -- the machine has seen it
    );
    CREATE TABLE commands (
        id           INTEGER PRIMARY KEY,
        session_id   TEXT,
        kind         TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        at           TEXT NOT NULL,
        done_at      TEXT,
        result       TEXT
    );
    CREATE TABLE readings (
        id           INTEGER PRIMARY KEY,
        session_id   TEXT NOT NULL REFERENCES sessions(session_id),
        measured_at  TEXT NOT NULL,
        energy_wh    INTEGER NOT NULL,
        power_w      REAL,
        cost_minor   INTEGER
    );
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        payload_json    TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        delivered_at    TEXT,
        last_error      TEXT
    );
    """,
    # 2: lookups recovery and the outbox sender do on every start and every pass
    """
    CREATE INDEX sessions_open ON sessions(closed_at) WHERE closed_at IS NULL;
    CREATE INDEX readings_by_session ON readings(session_id, id);
    CREATE INDEX card_results_unconsumed ON card_results(consumed) WHERE consumed = 0;
    CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at)
        WHERE delivered_at IS NULL;
    """,
    # 3: the sender's bookkeeping (the backend's answer, parked records), whether a reading was
    # taken while the vehicle drew energy (NULL in older rows: charging), end-of-day runs
    """
    ALTER TABLE outbox ADD COLUMN ack_json TEXT;         -- the backend's answer, as it came
    ALTER TABLE outbox ADD COLUMN parked_at TEXT;        -- refused (4xx): kept, not retried
    ALTER TABLE outbox ADD COLUMN last_attempt_at TEXT;
    ALTER TABLE readings ADD COLUMN charging INTEGER;    -- 0: connected, not drawing (parking)
    CREATE TABLE end_of_day (
        id            INTEGER PRIMARY KEY,
        business_day  TEXT NOT NULL,                     -- local date the run closes
        at            TEXT NOT NULL,
        outcome       TEXT NOT NULL,                     -- approved | failed | skipped
        terminal_id   TEXT,
        totals_json   TEXT,                              -- the terminal's totals per brand
        journal_json  TEXT,                              -- the journal's bookings per brand
        mismatch_json TEXT,                              -- brands that differ; NULL when equal
        detail        TEXT
    );
    """,
    # 4: when the driver sent the terminal its acknowledgement of a result (ZVT 80 00 00). The
    # terminal keeps a transaction only after it; recovery asks the terminal about any result
    # without it before acting on it (NULL in older rows: not known, so asked), and notes when
    # the terminal had not kept one (the result was not used)
    """
    ALTER TABLE card_results ADD COLUMN acknowledged_at TEXT;
    ALTER TABLE card_results ADD COLUMN dropped_at TEXT;
    """,
    # 5: this journal's own random name. Records that are not a session (an orphan hold's
    # reversal, end-of-day totals) are keyed by local row ids; with it in their idempotency
    # keys a journal made anew (a reinstalled station) never repeats an old journal's key
    """
    CREATE TABLE journal_identity (instance TEXT NOT NULL);
    INSERT INTO journal_identity (instance) VALUES (lower(hex(randomblob(16))));
    """,
    # 6: signed meter records (OCMF, Eichrecht), written as read from the meter and before the
    # meter is told it may drop them; one row per meter and transaction number. A session that
    # ended without a record gets a row without one (record NULL) saying why. The session's
    # close binds its rows (closed_at) in the same transaction that queues its report.
    """
    CREATE TABLE ocmf_records (
        id            INTEGER PRIMARY KEY,
        session_id    TEXT,                -- the kiosk session named in the record (ID)
        connector_id  TEXT NOT NULL,
        meter_serial  TEXT NOT NULL,
        pagination    TEXT,                -- "T17"; NULL when there is no record
        record        TEXT,                -- the OCMF text exactly as the meter gave it
        public_key    TEXT,                -- the meter's key (DER hex) the record verified with
        signed        INTEGER NOT NULL,    -- energy_wh is signed end minus begin
        energy_wh     INTEGER NOT NULL,    -- what is billed for energy (the rule's when unsigned)
        flags_json    TEXT NOT NULL,
        detail        TEXT NOT NULL,
        read_at       TEXT NOT NULL,
        closed_at     TEXT,
        UNIQUE (meter_serial, pagination)
    );
    CREATE INDEX ocmf_records_by_session ON ocmf_records(session_id);
    """,
    # 7: the CSMS link's queue (OCPP): what the operator's CSMS must be told, written in the
    # same transaction as the step that caused it and sent in id order; seq_no is a
    # transaction's TransactionEvent number, continuous from 0. Variables the CSMS set.
    """
    CREATE TABLE ocpp_queue (
        id             INTEGER PRIMARY KEY,
        session_id     TEXT,
        transaction_id TEXT,
        seq_no         INTEGER,                           -- TransactionEvent only
        action         TEXT NOT NULL,                     -- TransactionEvent | NotifySettlement
        kind           TEXT NOT NULL,                     -- started, periodic, ended, settled...
        payload_json   TEXT NOT NULL,                     -- OCPP 2.1 payload, exact decimals
        created_at     TEXT NOT NULL,                     -- the step's time
        attempts       INTEGER NOT NULL DEFAULT 0,
        sent_at        TEXT,                              -- the CSMS answered
        answer_json    TEXT,                              -- its answer, as it came
        last_error     TEXT
    );
    CREATE INDEX ocpp_queue_pending ON ocpp_queue(id) WHERE sent_at IS NULL;
    CREATE UNIQUE INDEX ocpp_queue_seq ON ocpp_queue(transaction_id, seq_no)
        WHERE seq_no IS NOT NULL;
    CREATE TABLE ocpp_variables (
        component  TEXT NOT NULL,
        variable   TEXT NOT NULL,
        value      TEXT NOT NULL,
        set_at     TEXT NOT NULL,
        PRIMARY KEY (component, variable)
    );
    """,
    # 8: tariffs the CSMS set (OCPP 2.1 SetDefaultTariff), one per EVSE: the OCPP tariff as it
    # came and the OCPI tariff it converts to exactly; it replaces the EVSE's tariff file until
    # ClearTariffs. Transactions the CSMS stopped (RequestStopTransaction accepted), so their
    # end is reported as a remote stop, also after a restart.
    """
    CREATE TABLE ocpp_tariffs (
        evse_id      INTEGER PRIMARY KEY,
        tariff_id    TEXT NOT NULL,
        ocpp_json    TEXT NOT NULL,                       -- the TariffType, exact decimals
        ocpi_json    TEXT NOT NULL,                       -- what the kiosk prices with
        set_at       TEXT NOT NULL
    );
    CREATE TABLE ocpp_remote_stops (
        transaction_id TEXT PRIMARY KEY,
        at             TEXT NOT NULL
    );
    """,
    # 9: the CSMS link's state as the link last saw it (one row), so `evkiosk status`, which
    # reads the journal only, can say whether the station is joined to its CSMS.
    """
    CREATE TABLE ocpp_link (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        connected  INTEGER NOT NULL,                      -- 1: boot accepted
        version    TEXT,                                  -- the OCPP version agreed
        last_error TEXT,
        changed_at TEXT NOT NULL
    );
    """,
    # 10: the reason of the station's next BootNotification when it is not a power-up (one
    # row): `RemoteReset` once it restarts for the CSMS's Reset, until a boot was accepted.
    """
    CREATE TABLE ocpp_boot_reason (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        reason   TEXT NOT NULL,
        noted_at TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
