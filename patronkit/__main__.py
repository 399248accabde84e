from patronkit.cli import main

main()
