// Command modelsmith is the Modelsmith desktop machine-learning studio. With no
// command it opens the desktop app; with one it runs the command line (see
// `modelsmith --help`). This file only wires the two faces to the app core.
package main

import (
	// First, before Fyne reads the locale: see the package doc.
	_ "modelsmith/views/posixlocale"

	"context"
	"os"
	"os/signal"
	"syscall"

	"modelsmith/app/cli"
	"modelsmith/views"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C has cancelled the command, a second one
		// kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, GUI: views.Run})
	stop()
	os.Exit(code)
}
