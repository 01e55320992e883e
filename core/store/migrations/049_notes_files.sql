-- Notes (comments) on records with the texts their edits replaced, the
-- notifications mentions make, and files uploaded to records: soft-deleted
-- (restorable for 30 days), their bytes in chunks read one range at a time
-- (or in an object store), one copy of a file per record.

CREATE TABLE notes (
    id         uuid PRIMARY KEY,
    entity     text NOT NULL,
    record_id  uuid NOT NULL,
    text       text NOT NULL,
    -- author_id is NULL when the hub itself wrote the note.
    author_id  uuid REFERENCES users (id),
    pinned     boolean NOT NULL DEFAULT false,
    mentions   uuid[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    edited_at  timestamptz,
    deleted_at timestamptz,
    version    bigint NOT NULL
);
CREATE INDEX notes_record ON notes (entity, record_id, created_at, id);

-- note_edits keeps each text an edit replaced: version is the note's
-- version that had it, edited_by and edited_at who replaced it and when.
CREATE TABLE note_edits (
    note_id   uuid NOT NULL REFERENCES notes (id),
    version   bigint NOT NULL,
    text      text NOT NULL,
    edited_by uuid REFERENCES users (id),
    edited_at timestamptz NOT NULL,
    PRIMARY KEY (note_id, version)
);

CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    kind       text NOT NULL,
    entity     text NOT NULL,
    record_id  uuid NOT NULL,
    note_id    uuid REFERENCES notes (id),
    actor_id   uuid REFERENCES users (id),
    text       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id, created_at, id) WHERE read_at IS NULL;
-- A user is told of a note once, however often its edits mention them.
CREATE UNIQUE INDEX notifications_note_once ON notifications (note_id, user_id, kind) WHERE note_id IS NOT NULL;

-- Files: data stays for the rows written before (and small files the hub
-- makes itself, such as a mailed PDF); an upload's bytes are in
-- attachment_chunks (storage 'db') or in the object store under the
-- attachment's id (storage 's3').
ALTER TABLE attachments
    ALTER COLUMN data DROP NOT NULL,
    ADD COLUMN storage    text NOT NULL DEFAULT 'db',
    ADD COLUMN note_id    uuid REFERENCES notes (id),
    ADD COLUMN author_id  uuid REFERENCES users (id),
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN deleted_by uuid REFERENCES users (id),
    ADD COLUMN version    bigint NOT NULL DEFAULT 1;
CREATE INDEX attachments_same ON attachments (entity, record_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX attachments_deleted ON attachments (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX attachments_note ON attachments (note_id) WHERE note_id IS NOT NULL;

-- An upload's chunks are written as the file streams in, before its row
-- (whose size and SHA-256 are known only at the end): the reference is
-- checked at commit. EXTERNAL storage leaves them uncompressed (most
-- uploads are compressed already), so a range reads only its own pages.
CREATE TABLE attachment_chunks (
    attachment_id uuid NOT NULL REFERENCES attachments (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    n             integer NOT NULL,
    data          bytea NOT NULL,
    PRIMARY KEY (attachment_id, n)
);
ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
