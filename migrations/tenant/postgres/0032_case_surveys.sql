-- The citizens' survey (回访, platform/open311 survey.go): once a case reported by the public is
-- closed, the citizen who holds its number and token answers once whether the problem was solved,
-- how satisfied they are (1–5) and a comment. An answer "not solved" reports a follow-up case at
-- the same place and class (a closed case is final in the case loop, so it is not reopened):
-- followup_case_id links the original to it, and the follow-up is found from the original by
-- this column (the link both ways). The evaluation counts these rows by answered_at.
CREATE TABLE case_surveys (
    case_id          text PRIMARY KEY REFERENCES cases (id),
    channel          text NOT NULL CHECK (channel IN ('lookup', 'link', 'open311')),
    asked_by         text NOT NULL,
    asked_at         timestamptz NOT NULL,
    solved           boolean NOT NULL,
    rating           integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment          text NOT NULL DEFAULT '',
    answered_at      timestamptz NOT NULL,
    followup_case_id text REFERENCES cases (id)
);

CREATE INDEX case_surveys_answered_at ON case_surveys (answered_at);
CREATE INDEX case_surveys_followup ON case_surveys (followup_case_id);
