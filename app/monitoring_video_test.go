package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	jpegenc "image/jpeg"
	"testing"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// TestVideoSnapshotBecomesCasePhoto: a camera's event with a snapshot raises an alarm; once the
// alarm's case is opened, the snapshot pass adds the snapshot to the case as a photo through the
// case loop (once); another county sees neither the camera, the snapshot nor the event route.
func TestVideoSnapshotBecomesCasePhoto(t *testing.T) {
	f := newCaseFixture(t, "sqlite")
	evalPlan(t, f.fixture, "chuxiong") // the standard plan sells monitoring
	evalPlan(t, f.fixture, "wuding")
	res := f.mustDo(t, "adminA", "POST", "/api/v1/t/chuxiong/monitoring/cameras",
		`{"code":"CAM-1","lon":101.505,"lat":25.005,"source":{"protocol":"rtsp","url":"rtsp://admin:pw@127.0.0.1:9/none"}}`, 201)
	var cam struct{ Token string }
	json.Unmarshal([]byte(res.body), &cam)
	var jpg bytes.Buffer
	jpegenc.Encode(&jpg, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	ev := `{"id":"e1","type":"exposed_garbage","confidence":0.9,"snapshot":"` + base64.StdEncoding.EncodeToString(jpg.Bytes()) + `"}`
	f.tokens["CAM-1"] = cam.Token
	f.mustDo(t, "", "POST", "/api/v1/ingest/chuxiong/events", ev, 401)       // no token
	f.mustDo(t, "adminA", "POST", "/api/v1/ingest/chuxiong/events", ev, 401) // a member's token
	f.mustDo(t, "CAM-1", "POST", "/api/v1/ingest/wuding/events", ev, 401)    // A's camera into B
	res, err := f.do(t, "CAM-1", "POST", "/api/v1/ingest/chuxiong/events", ev)
	var alarm struct{ Alarm string }
	if err != nil || res.status != 200 || json.Unmarshal([]byte(res.body), &alarm) != nil || alarm.Alarm == "" {
		t.Fatalf("event: %v %+v", err, res)
	}
	f.mustDo(t, "adminB", "GET", "/api/v1/t/chuxiong/monitoring/alarms/"+alarm.Alarm+"/snapshot", "", 404)
	f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/monitoring/alarms/"+alarm.Alarm+"/snapshot", "", 404)
	f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/monitoring/alarms/"+alarm.Alarm+"/snapshot", "", 200)

	c := f.report(t, "acceptorA", reportA)
	ta, err := f.app.store.FindTenantBySlug(context.Background(), "chuxiong")
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenants.WithScope(context.Background(), tenants.SystemScope(ta))
	if err := f.app.store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error { // what the alarm→case opener does
		_, err := db.NewUpdate().TableExpr("monitoring_alarms").Set("case_id = ?, case_status = 'opened'", c.ID).Where("id = ?", alarm.Alarm).Exec(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		rep, err := f.app.platform.monitoring.Snapshots(ctx)
		if err != nil || rep.Attached != want {
			t.Fatalf("pass %d: %+v %v", i, rep, err)
		}
	}
	var got caseView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+c.ID, "", 200).body), &got)
	if len(got.Photos) != 1 || got.Photos[0].MediaType != "image/jpeg" || got.Photos[0].UploadedBy != "system" {
		t.Fatalf("the case's photos: %+v", got.Photos)
	}
}
