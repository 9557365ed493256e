from predictq.cli import main

main()
