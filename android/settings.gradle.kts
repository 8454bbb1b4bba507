// The Fieldproof Android SDK: the `fieldproof` library (AAR) and a `sample` app that uses it.
// android/jvm-test is not part of this build: it is the JVM test of the generated bindings, run
// with kotlinc by its own run.sh.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fieldproof-android"
include(":fieldproof")
include(":sample")
