-- Sample CRM database for Switchboard (PostgreSQL): accounts, contacts, cases, agents with their
-- skills, and the activities Switchboard writes back, read through psqlODBC:
--   createdb crm && psql -d crm -f samples/crm/postgresql.sql
-- The agents are the quick start's (samples/quickstart/switchboard.xml); the sample mails in
-- samples/quickstart/mail/ come from its contacts. Times are timestamptz.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,          -- gold, silver, bronze
  language TEXT                -- the language the account is served in
);

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  email TEXT UNIQUE,
  phone TEXT UNIQUE,           -- E.164
  chat_id TEXT UNIQUE,         -- the web chat's identity of the customer
  language TEXT,
  previous_agent TEXT          -- the agent who served the contact last
);

CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  subject TEXT NOT NULL,
  status TEXT NOT NULL,        -- open, closed
  opened_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  site TEXT NOT NULL,
  seniority INTEGER NOT NULL,
  capacity TEXT NOT NULL,      -- per medium, e.g. 'voice:1 chat:3 email:5'
  team TEXT
);

CREATE TABLE agent_skills (
  agent_id TEXT NOT NULL REFERENCES agents(id),
  skill TEXT NOT NULL,
  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10),
  PRIMARY KEY (agent_id, skill)
);

-- One row per work item that ended, written by Switchboard's ODBC connector. work_item_id is
-- unique, so that a write repeated after a lost answer changes nothing (ON CONFLICT DO NOTHING).
CREATE TABLE activities (
  id BIGSERIAL PRIMARY KEY,
  work_item_id TEXT NOT NULL UNIQUE,
  contact_id TEXT REFERENCES contacts(id),
  medium TEXT NOT NULL,
  state TEXT NOT NULL,         -- completed, abandoned
  agent_id TEXT,
  queue_id TEXT,
  address TEXT,
  subject TEXT,
  disposition TEXT,
  notes TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  accepted_at TIMESTAMPTZ,
  ended_at TIMESTAMPTZ NOT NULL,
  reference TEXT NOT NULL      -- where the body or transcript is: Switchboard's REST path
);
CREATE INDEX activities_contact ON activities (contact_id, ended_at);

INSERT INTO accounts (id, name, tier, language) VALUES
  ('acc-1001', 'Joana Ferreira', 'gold', 'pt'),
  ('acc-1002', 'Davies Household', 'silver', 'en'),
  ('acc-1003', 'Pereira & Filhos, Lda', 'gold', 'pt'),
  ('acc-1004', 'Lucia Martin', 'bronze', 'es'),
  ('acc-1005', 'Rui Almeida', 'silver', 'pt');

INSERT INTO contacts (id, account_id, name, email, phone, chat_id, language, previous_agent) VALUES
  ('c-1001', 'acc-1001', 'Joana Ferreira', 'joana.ferreira@example.com', '+351912345001', 'joana.f', 'pt', 'a-ana'),
  ('c-1002', 'acc-1002', 'Mark Davies', 'mark.davies@example.co.uk', '+447700900002', 'markd', 'en', 'a-bruno'),
  ('c-1003', 'acc-1003', 'João Pereira', 'joao.pereira@example.pt', '+351912345003', NULL, 'pt', 'a-filipe'),
  ('c-1004', 'acc-1004', 'Lucia Martin', 'lucia.martin@example.es', '+34600000004', 'lucia.m', 'es', NULL),
  ('c-1005', 'acc-1005', 'Rui Almeida', 'rui.almeida@example.pt', '+351912345005', NULL, 'pt', 'a-duarte');

INSERT INTO cases (id, contact_id, subject, status, opened_at) VALUES
  ('case-501', 'c-1001', 'Fatura de outubro em duplicado', 'open', '2026-11-10T09:12:00Z'),
  ('case-502', 'c-1002', 'Router replaced', 'closed', '2026-10-02T15:40:00Z'),
  ('case-503', 'c-1002', 'Slow internet in the evening', 'open', '2026-11-18T20:05:00Z'),
  ('case-504', 'c-1003', 'Pedido de comprovativo', 'closed', '2026-09-21T11:00:00Z');

INSERT INTO agents (id, name, site, seniority, capacity, team) VALUES
  ('a-ana', 'Ana Sousa', 'lisbon', 7, 'voice:1 chat:3 email:5 fax:5', 'billing-lisbon'),
  ('a-bruno', 'Bruno Carvalho', 'lisbon', 3, 'voice:1 chat:3 email:5 fax:5', 'support-lisbon'),
  ('a-carla', 'Carla Ribeiro', 'lisbon', 5, 'voice:1 chat:3 email:5 fax:5', 'sales-lisbon'),
  ('a-duarte', 'Duarte Pinto', 'porto', 9, 'voice:1 chat:3 email:5 fax:5', 'support-porto'),
  ('a-elena', 'Elena Vidal', 'porto', 2, 'voice:1 chat:3 email:5 fax:5', 'sales-porto'),
  ('a-filipe', 'Filipe Moreira', 'porto', 4, 'email:8 fax:8', 'back-office-porto');

INSERT INTO agent_skills (agent_id, skill, level) VALUES
  ('a-ana', 'billing', 8), ('a-ana', 'technical', 4), ('a-ana', 'portuguese', 10),
  ('a-ana', 'english', 7), ('a-ana', 'spanish', 5),
  ('a-bruno', 'technical', 9), ('a-bruno', 'portuguese', 10), ('a-bruno', 'english', 8),
  ('a-carla', 'sales', 9), ('a-carla', 'billing', 4), ('a-carla', 'portuguese', 10),
  ('a-carla', 'spanish', 8),
  ('a-duarte', 'technical', 7), ('a-duarte', 'billing', 6), ('a-duarte', 'portuguese', 10),
  ('a-duarte', 'english', 6),
  ('a-elena', 'sales', 6), ('a-elena', 'technical', 3), ('a-elena', 'spanish', 10),
  ('a-elena', 'english', 9), ('a-elena', 'portuguese', 6),
  ('a-filipe', 'billing', 7), ('a-filipe', 'sales', 3), ('a-filipe', 'portuguese', 10),
  ('a-filipe', 'english', 5);
