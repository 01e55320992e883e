-- The mail scanner: per folder, its UIDVALIDITY and the last UID processed;
-- per message, what became of it. A message is recorded in the transaction
-- that applied it to the CRM, so a crash never processes one twice; its
-- Message-ID recognizes it again after a UIDVALIDITY change.
CREATE TABLE mailscan_folders (
    mailbox      text NOT NULL,
    folder       text NOT NULL,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (mailbox, folder)
);

CREATE TABLE mailscan_messages (
    mailbox      text NOT NULL,
    message_id   text NOT NULL,
    folder       text NOT NULL,
    uid_validity bigint NOT NULL,
    uid          bigint NOT NULL,
    status       text NOT NULL, -- processed, failed
    outcome      text NOT NULL DEFAULT '',
    rule         text NOT NULL DEFAULT '',
    entity       text NOT NULL DEFAULT '',
    record_id    uuid,
    activity_id  uuid,
    error        text NOT NULL DEFAULT '',
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (mailbox, message_id)
);
CREATE INDEX mailscan_messages_uid ON mailscan_messages (mailbox, folder, uid_validity, uid);
