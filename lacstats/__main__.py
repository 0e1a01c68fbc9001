from lacstats.cli import main

# guarded: worker processes of a parallel `lacstats reproduce` import this module afresh
if __name__ == "__main__":
    raise SystemExit(main())
