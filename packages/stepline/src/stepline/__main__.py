from stepline.cli.app import main

main()
