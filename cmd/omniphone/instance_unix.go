//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockExclusive takes f's advisory lock without waiting; the kernel drops
// it when the process ends, however it ends.
func lockExclusive(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errAlreadyRunning
	}
	if err != nil {
		return fmt.Errorf("instance lock: %w", err)
	}
	return nil
}

func unlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
