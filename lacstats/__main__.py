from lacstats.cli import main

raise SystemExit(main())
