from stepline.cli.entry import main

main()
