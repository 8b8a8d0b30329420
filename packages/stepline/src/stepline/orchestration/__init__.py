"""Orchestration: the callbacks a rendered workflow makes (start-run, execute-single-node, fan out/in,
finish-run) and the helpers every renderer shares (command lines, DNS-1123 names)."""
