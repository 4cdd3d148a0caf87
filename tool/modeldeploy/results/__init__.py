"""What the commands return and the writers read: dataclasses, no logic beyond derived counts.

The commands (commands/) build these values and the writers (report/) print them; neither
package imports the other, so a new output format needs nothing but this package.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    check | diff | history | run | status
    policy | sentence
"""
