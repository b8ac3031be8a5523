package main

import (
	"os/user"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// commandActor is who the audit trail says read what an administrator's
// command read (report annual's statistics, victims age-conflicts' dates
// of birth): CaseGraph itself, as for the default policy (system work,
// not a principal's request); the operation names the command and the OS
// user who ran it.
const commandActor = "casegraph"

// commandRecorder is the recorder of one run of a command that reads what
// the audit trail records: one request id for the run, the actor
// commandActor and the operation, which names the OS user beside it.
func commandRecorder(operation string) *audit.Recorder {
	if u, err := user.Current(); err == nil {
		operation += " (OS user " + u.Username + ")"
	}
	rec := audit.NewRecorder(requestid.New(), "", &viewer.Principal{Subject: commandActor, AgencyCode: commandActor})
	rec.SetOperation(operation)
	return rec
}
