// Copyright 2026 The smartcity-operator Authors.
// SPDX-License-Identifier: Apache-2.0
//
// pause: the sandbox ("infra") process of every pod in the offline kind node image. It holds
// the pod's namespaces open, exits cleanly on SIGINT or SIGTERM, and, as PID 1 of the pod's PID
// namespace when that is shared, reaps the children it inherits. Built with `gcc -static`.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
	(void)sig;
	_exit(0);
}

static void on_child(int sig) {
	(void)sig;
	int saved = errno;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
	errno = saved;
}

static int handle(int sig, void (*fn)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		printf("pause (smartcity-operator offline kind image)\n");
		return 0;
	}
	if (getpid() != 1) {
		fprintf(stderr, "pause: warning: not PID 1\n");
	}
	if (handle(SIGINT, on_stop, 0) < 0 || handle(SIGTERM, on_stop, 0) < 0 ||
	    handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
		perror("pause: sigaction");
		return 1;
	}
	for (;;) {
		pause();
	}
	return 42; // not reached
}
