from feedsvc.entry import main

main()
