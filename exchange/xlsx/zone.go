package xlsx

import (
	"fmt"
	"regexp"
	"time"
)

// moscow is the zone exports write times in unless told otherwise, and
// the one imports read times without an offset in: UTC+3 all year since
// 2014.
func moscow() *time.Location { return time.FixedZone("MSK", 3*60*60) }

// zoneName names the zone a date-time column's values are in, as its
// header says it: Moscow time as Russians write it (МСК), another zone by
// its IANA name, each with its UTC offset at now («МСК, UTC+3»,
// «Asia/Yekaterinburg, UTC+5»; «UTC» alone). A zone with summer time has
// no one offset, so its name stands alone («Europe/Berlin»). A cell holds
// a wall-clock time and no zone, so the header is the one place that can
// say it.
func zoneName(loc *time.Location, now time.Time) string {
	_, off := now.In(loc).Zone()
	offset := utcOffset(off)
	name := loc.String()
	_, winter := time.Date(now.Year(), time.January, 1, 12, 0, 0, 0, loc).Zone()
	_, summer := time.Date(now.Year(), time.July, 1, 12, 0, 0, 0, loc).Zone()
	if winter != summer && name != "Local" {
		return name
	}
	switch name {
	case "MSK", "Europe/Moscow":
		return "МСК, " + offset
	case "UTC", "Local", "":
		// Local names nothing a reader of the file could look up.
		return offset
	default:
		return name + ", " + offset
	}
}

// utcOffset writes an offset as UTC+3, UTC-3:30 or UTC.
func utcOffset(seconds int) string {
	if seconds == 0 {
		return "UTC"
	}
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	h, m := seconds/3600, seconds%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}

// zonedHeader is a date-time column's header with its zone: «Создано (МСК, UTC+3)».
func zonedHeader(header, zone string) string { return header + " (" + zone + ")" }

// zoneSuffix is the zone zonedHeader puts after a header.
var zoneSuffix = regexp.MustCompile(`^(.*?)\s*\((?:(?:[^()]*,\s*)?UTC(?:[+-]\d{1,2}(?::\d{2})?)?|[A-Za-z]+(?:/[A-Za-z0-9_+-]+)+)\)\s*$`)

// unzoned is a header without the zone an export gave it («Создано (МСК,
// UTC+3)» is «Создано»), so that an exported file imports back whatever
// zone it was written in; ok is false for a header without one.
func unzoned(header string) (string, bool) {
	m := zoneSuffix.FindStringSubmatch(header)
	if m == nil {
		return header, false
	}
	return m[1], true
}
