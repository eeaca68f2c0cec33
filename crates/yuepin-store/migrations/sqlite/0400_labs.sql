-- Labs (measures 3 and 4): catalogue, time-share bookings (no double booking enforced by
-- triggers), waitlist, outsourced-testing orders and verifiable reports.
CREATE TABLE labs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE lab_staff (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    lab_id INTEGER NOT NULL REFERENCES labs (id) ON DELETE CASCADE
);
CREATE TABLE lab_instruments (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs (id),
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    requires_approval INTEGER NOT NULL DEFAULT 0 CHECK (requires_approval IN (0, 1)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX lab_instruments_lab ON lab_instruments (lab_id, id);
CREATE TABLE lab_instrument_items (
    item TEXT NOT NULL,
    city TEXT NOT NULL,
    instrument_id INTEGER NOT NULL REFERENCES lab_instruments (id) ON DELETE CASCADE,
    PRIMARY KEY (item, city, instrument_id)
);
CREATE INDEX lab_instrument_items_instrument ON lab_instrument_items (instrument_id);
CREATE TABLE lab_services (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs (id),
    area TEXT NOT NULL,
    item TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX lab_services_lab ON lab_services (lab_id, id);
CREATE INDEX lab_services_item ON lab_services (item);
CREATE TABLE lab_blackouts (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES lab_instruments (id) ON DELETE CASCADE,
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    reason TEXT NOT NULL,
    CHECK (start_min < end_min)
);
CREATE INDEX lab_blackouts_instrument ON lab_blackouts (instrument_id, start_min);
CREATE TABLE lab_qualifications (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    qualification TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, qualification)
);
-- Times: start_min/end_min are minutes since 1970-01-01 00:00 China Standard Time (the
-- constraint columns); starts_at/ends_at the same instants as 'YYYY-MM-DD HH:MM:SS' text.
CREATE TABLE lab_bookings (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES lab_instruments (id),
    enterprise_id INTEGER REFERENCES enterprises (id),
    group_key TEXT NOT NULL,
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'requested', 'pending_approval', 'confirmed',
        'checked_in', 'completed', 'cancelled', 'no_show', 'rejected', 'released')),
    self_operated INTEGER NOT NULL CHECK (self_operated IN (0, 1)),
    accessories TEXT NOT NULL DEFAULT '[]',
    price_fen INTEGER NOT NULL CHECK (price_fen >= 0),
    fee_fen INTEGER NOT NULL DEFAULT 0 CHECK (fee_fen >= 0),
    hold_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (start_min < end_min)
);
CREATE INDEX lab_bookings_instrument ON lab_bookings (instrument_id, start_min);
CREATE INDEX lab_bookings_enterprise ON lab_bookings (enterprise_id, start_min);
CREATE INDEX lab_bookings_state ON lab_bookings (state, start_min);
CREATE TRIGGER lab_booking_no_overlap_insert
BEFORE INSERT ON lab_bookings
WHEN NEW.state IN ('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'lab_booking_overlap: 与已有预约冲突 (overlaps an existing booking)')
    WHERE EXISTS (
        SELECT 1 FROM lab_bookings b
        WHERE b.instrument_id = NEW.instrument_id
          AND b.state IN ('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')
          AND b.start_min < NEW.end_min
          AND NEW.start_min < b.end_min);
END;
CREATE TRIGGER lab_booking_no_overlap_update
BEFORE UPDATE OF instrument_id, start_min, end_min, state ON lab_bookings
WHEN NEW.state IN ('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'lab_booking_overlap: 与已有预约冲突 (overlaps an existing booking)')
    WHERE EXISTS (
        SELECT 1 FROM lab_bookings b
        WHERE b.id <> NEW.id
          AND b.instrument_id = NEW.instrument_id
          AND b.state IN ('held', 'requested', 'pending_approval', 'confirmed', 'checked_in', 'completed')
          AND b.start_min < NEW.end_min
          AND NEW.start_min < b.end_min);
END;
CREATE TABLE lab_waitlist (
    id INTEGER PRIMARY KEY,
    instrument_id INTEGER NOT NULL REFERENCES lab_instruments (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    self_operated INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'offered', 'booked', 'expired', 'declined', 'left')),
    booking_id INTEGER REFERENCES lab_bookings (id),
    joined_at TEXT NOT NULL
);
CREATE INDEX lab_waitlist_instrument ON lab_waitlist (instrument_id, state, id);
CREATE TABLE lab_orders (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES lab_services (id),
    lab_id INTEGER NOT NULL REFERENCES labs (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    samples INTEGER NOT NULL CHECK (samples > 0),
    note TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('requested', 'quoted', 'accepted', 'sample_received',
        'testing', 'results_verified', 'report_issued', 'retest', 'report_revoked',
        'report_replaced', 'declined', 'cancelled')),
    state_data TEXT NOT NULL,
    quoted_fen INTEGER CHECK (quoted_fen >= 0),
    tester_id INTEGER,
    verifier_id INTEGER,
    round INTEGER NOT NULL DEFAULT 1 CHECK (round >= 1),
    results TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (verifier_id IS NULL OR tester_id IS NULL OR verifier_id <> tester_id)
);
CREATE INDEX lab_orders_lab ON lab_orders (lab_id, state);
CREATE INDEX lab_orders_enterprise ON lab_orders (enterprise_id, id);
CREATE TABLE lab_report_seq (
    lab_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (lab_id, day)
);
CREATE TABLE lab_reports (
    number TEXT PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES lab_orders (id),
    lab_id INTEGER NOT NULL REFERENCES labs (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    issued_on TEXT NOT NULL,
    round INTEGER NOT NULL,
    result TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'replaced', 'revoked')),
    replaced_by TEXT REFERENCES lab_reports (number),
    revoked_reason TEXT,
    CHECK ((status = 'valid' AND replaced_by IS NULL AND revoked_reason IS NULL)
        OR (status = 'replaced' AND replaced_by IS NOT NULL AND replaced_by <> number AND revoked_reason IS NULL)
        OR (status = 'revoked' AND replaced_by IS NULL AND revoked_reason IS NOT NULL))
);
CREATE INDEX lab_reports_order ON lab_reports (order_id);
CREATE TRIGGER lab_report_final
BEFORE UPDATE ON lab_reports
WHEN OLD.status <> 'valid'
BEGIN
    SELECT RAISE(ABORT, 'lab_report_final: 报告已被替代或撤销 (a replaced or revoked report is final)');
END;
CREATE TABLE lab_feed_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('instrument', 'enterprise')),
    ref_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
