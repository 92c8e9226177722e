from feedsvc.cli import main

main()
