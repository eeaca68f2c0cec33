-- Product hospital (产品医院, measure 6): hospitals with their business hours and SLA targets
-- per priority, experts bound to `expert` accounts and their hospital memberships (a
-- coordinator flag per membership), cases with their panel, pauses (waiting for the
-- enterprise: the SLA clock stands still), threaded messages (internal notes hidden from the
-- enterprise), events, and the knowledge base of anonymised, approved solutions.
CREATE TABLE hospital_hospitals (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    institution TEXT NOT NULL,
    city TEXT NOT NULL,
    divisions TEXT NOT NULL,
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    business_hours TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE hospital_sla_targets (
    hospital_id BIGINT NOT NULL REFERENCES hospital_hospitals (id) ON DELETE CASCADE,
    priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    first_response_minutes BIGINT NOT NULL CHECK (first_response_minutes > 0),
    resolution_minutes BIGINT NOT NULL CHECK (resolution_minutes > 0),
    PRIMARY KEY (hospital_id, priority)
);
CREATE TABLE hospital_experts (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users (id),
    name TEXT NOT NULL,
    divisions TEXT NOT NULL,
    qualifications TEXT NOT NULL,
    city TEXT NOT NULL,
    max_load BIGINT NOT NULL CHECK (max_load > 0),
    last_assigned_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE hospital_members (
    hospital_id BIGINT NOT NULL REFERENCES hospital_hospitals (id) ON DELETE CASCADE,
    expert_id BIGINT NOT NULL REFERENCES hospital_experts (id) ON DELETE CASCADE,
    coordinator BIGINT NOT NULL DEFAULT 0 CHECK (coordinator IN (0, 1)),
    PRIMARY KEY (hospital_id, expert_id)
);
CREATE INDEX hospital_members_expert ON hospital_members (expert_id);
CREATE TABLE hospital_cases (
    id BIGSERIAL PRIMARY KEY,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
    hospital_id BIGINT NOT NULL REFERENCES hospital_hospitals (id),
    title TEXT NOT NULL,
    product TEXT NOT NULL,
    problem_type TEXT NOT NULL,
    description TEXT NOT NULL,
    division TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    on_site BIGINT NOT NULL DEFAULT 0 CHECK (on_site IN (0, 1)),
    link_kind TEXT CHECK (link_kind IN ('inspection', 'complaint')),
    link_id BIGINT,
    state TEXT NOT NULL CHECK (state IN ('opened', 'assigned', 'in_consultation', 'waiting_for_enterprise', 'resolved', 'closed')),
    expert_id BIGINT REFERENCES hospital_experts (id),
    panel BIGINT NOT NULL DEFAULT 0 CHECK (panel IN (0, 1)),
    opened_at TEXT NOT NULL,
    first_response_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    root_cause TEXT,
    fix TEXT,
    verification TEXT,
    satisfaction BIGINT CHECK (satisfaction BETWEEN 1 AND 5),
    satisfaction_comment TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX hospital_cases_enterprise ON hospital_cases (enterprise_id, id);
CREATE INDEX hospital_cases_expert ON hospital_cases (expert_id, state);
CREATE INDEX hospital_cases_hospital ON hospital_cases (hospital_id, state);
CREATE TABLE hospital_case_panel (
    case_id BIGINT NOT NULL REFERENCES hospital_cases (id) ON DELETE CASCADE,
    expert_id BIGINT NOT NULL REFERENCES hospital_experts (id),
    PRIMARY KEY (case_id, expert_id)
);
CREATE INDEX hospital_case_panel_expert ON hospital_case_panel (expert_id);
CREATE TABLE hospital_pauses (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES hospital_cases (id) ON DELETE CASCADE,
    paused_at TEXT NOT NULL,
    resumed_at TEXT
);
CREATE INDEX hospital_pauses_case ON hospital_pauses (case_id, id);
CREATE TABLE hospital_messages (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES hospital_cases (id) ON DELETE CASCADE,
    author_user_id BIGINT,
    author TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('enterprise', 'expert', 'coordinator')),
    internal BIGINT NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX hospital_messages_case ON hospital_messages (case_id, id);
CREATE TABLE hospital_events (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES hospital_cases (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    actor TEXT NOT NULL,
    expert_id BIGINT,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX hospital_events_case ON hospital_events (case_id, id);
CREATE TABLE hospital_knowledge (
    case_id BIGINT PRIMARY KEY REFERENCES hospital_cases (id),
    title TEXT NOT NULL,
    problem TEXT NOT NULL,
    cause TEXT NOT NULL,
    fix TEXT NOT NULL,
    division TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'approved')),
    proposed_at TEXT NOT NULL,
    approved_at TEXT
);
CREATE INDEX hospital_knowledge_division ON hospital_knowledge (status, division);
