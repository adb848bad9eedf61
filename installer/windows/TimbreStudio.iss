; Timbre Studio: the Windows installer (Inno Setup 6.3 or newer).
;
; Built by installer\windows\build.ps1, which passes the version and the flavour:
;   ISCC.exe /DAppVersion=0.1.0 /DAppNumericVersion=0.1.0.0 /DFlavour=cuda TimbreStudio.iss
; Paths below are relative to the checkout (SourceDir); the bundle is PyInstaller's
; one-folder output dist\TimbreStudio\ (installer\timbre_studio.spec).
;
; What it does: one Setup.exe (the CUDA flavour adds Setup-N.bin slices, see below);
; installs for the current user only, without administrator rights, into
; %LOCALAPPDATA%\Programs\TimbreStudio; Start-menu and (optional) desktop shortcuts;
; version information on Setup.exe. The uninstaller removes the program and keeps the
; user's projects (never touched: they live wherever the user put them), the data
; folder %LOCALAPPDATA%\TimbreStudio (downloaded assets, imported models, logs) and the
; settings (HKCU\Software\TimbreStudio) unless the user answers Yes to its question;
; a silent uninstall always keeps them.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef AppNumericVersion
  #define AppNumericVersion "0.0.0.0"
#endif
#ifndef Flavour
  #define Flavour "cpu"
#endif
#ifndef BundleDir
  #define BundleDir "dist\TimbreStudio"
#endif
#if Flavour != "cpu" && Flavour != "cuda"
  #error Flavour must be cpu or cuda
#endif

#define AppName "Timbre Studio"
#define AppExeName "TimbreStudio.exe"
; QSettings("TimbreStudio", "Timbre Studio") keeps its values under this key on Windows
#define SettingsKey "Software\TimbreStudio"
; backend.resources.data_dir() on Windows (TIMBRE_DATA_DIR overrides it; the uninstaller
; only knows the default)
#define DataDirName "TimbreStudio"

[Setup]
; the GUID in the issue's contract; "{{" is Inno's escape for a literal "{"
AppId={{6B7E2C1A-3F5D-4E8B-9A2C-7D1E5F3B9C40}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion} ({#Flavour})
AppPublisher=Timbre Studio
SourceDir=..\..
OutputDir=dist\installer
OutputBaseFilename=TimbreStudio-{#AppVersion}-{#Flavour}-Setup
SetupIconFile=resources\icons\timbre-studio.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}

; Per user, no administrator rights. In this (non administrative) install mode {autopf}
; is {userpf}, the user's own programs folder %LOCALAPPDATA%\Programs, and {autoprograms}
; and {autodesktop} are the user's Start menu and desktop; uninstall information goes to
; HKCU. The folder name has no space and stays short, so the bundle's deepest files
; (_internal\torch\...) stay well inside Windows' 260-character path limit.
PrivilegesRequired=lowest
DefaultDirName={autopf}\TimbreStudio
DisableProgramGroupPage=yes
UsePreviousAppDir=yes

; 64-bit only (the bundle is x64; Arm64 Windows 11 runs it under emulation)
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0

; LZMA2 per file (no solid compression). A solid stream over the ~5 GB CUDA bundle
; gains little (the bulk is already-dense DLLs) and costs a lot: Setup can no longer
; seek to a file, so a Retry after a read error restarts decompression from the very
; first slice, and the compiler must push all 5 GB through one stream.
Compression=lzma2/max
SolidCompression=no
LZMAUseSeparateProcess=yes

#if Flavour == "cuda"
; Inno refuses more than 4,200,000,000 compressed bytes inside Setup.exe: the CUDA
; bundle is ~5 GB, so its data goes to slices TimbreStudio-<version>-cuda-Setup-1.bin,
; -2.bin, ... next to Setup.exe (Setup finds them in its own folder and asks for no
; disk). 2,000,000,000 bytes per slice fits every Inno 6 release's limit and stays under
; the 2 GiB per-file limit of common release hosts. The CPU flavour (well under the
; limit) stays one Setup.exe.
DiskSpanning=yes
DiskSliceSize=2000000000
SlicesPerDisk=1
#endif

; close a running Timbre Studio (the window and its backend are the same exe) through
; the Restart Manager before replacing its files
CloseApplications=yes
RestartApplications=no

WizardStyle=modern
ShowLanguageDialog=no
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductVersion={#AppNumericVersion}
VersionInfoTextVersion={#AppVersion}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoCompany=Timbre Studio
VersionInfoDescription={#AppName} Setup ({#Flavour})
VersionInfoCopyright=Copyright (C) Timbre Studio contributors

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[InstallDelete]
; an update replaces the whole bundle: files the new version no longer ships (an older
; torch's DLLs, the other flavour's CUDA libraries) must not stay behind and be loaded.
; Only the program's own folder; the user's data is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  RemoveUserData: Boolean;

function DataDir: String;
begin
  Result := ExpandConstant('{localappdata}\{#DataDirName}');
end;

// Asked once, before anything is removed. No is the default button; a silent
// uninstall (/SILENT, /VERYSILENT) or /SUPPRESSMSGBOXES keeps everything.
function AskToRemoveUserData: Boolean;
var
  Question: String;
begin
  Result := False;
  if UninstallSilent then
    Exit;
  if not DirExists(DataDir) and not RegKeyExists(HKCU, '{#SettingsKey}') then
    Exit;
  Question := 'Also remove your Timbre Studio data and settings?' + #13#10#13#10 +
    'Data: downloaded assets, imported models and logs in' + #13#10 + DataDir + #13#10 +
    'Settings: recent projects, folders and the window layout.' + #13#10#13#10 +
    'Your projects are never removed, whatever you answer.' + #13#10 +
    'Choose No to keep all of this for a later installation.';
  Result := SuppressibleMsgBox(Question, mbConfirmation, MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
    RemoveUserData := AskToRemoveUserData;
  if (CurUninstallStep = usPostUninstall) and RemoveUserData then
  begin
    if DirExists(DataDir) then
      if not DelTree(DataDir, True, True, True) then
        SuppressibleMsgBox('Some files in ' + DataDir + ' could not be removed ' +
          '(is Timbre Studio still running?). Delete that folder by hand.',
          mbError, MB_OK, IDOK);
    if RegKeyExists(HKCU, '{#SettingsKey}') then
      RegDeleteKeyIncludingSubkeys(HKCU, '{#SettingsKey}');
  end;
end;
