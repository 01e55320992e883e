package pgembed

import (
	"os"
	"syscall"
)

type syscallProcAttr = syscall.SysProcAttr

func ownedBy(fi os.FileInfo, uid uint32) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == uid
}
