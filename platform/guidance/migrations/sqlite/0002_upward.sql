-- What a prefecture reports up to the provincial platform (政策法规, 行业动态, 队伍建设, 典型经验):
-- its own records, queued for the data exchange's destinations in the same transaction.
CREATE TABLE guidance_upward (
    id           text PRIMARY KEY,
    stream       text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL DEFAULT '',
    submitted_by text NOT NULL DEFAULT '',
    submitted_at bigint NOT NULL,
    queued       integer NOT NULL DEFAULT 0
);
CREATE INDEX guidance_upward_submitted ON guidance_upward (submitted_at);
