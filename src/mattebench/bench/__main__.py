from mattebench.bench.cli import main

main()
